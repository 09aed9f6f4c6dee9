"""Where a row runs: the machine's facts (``machine``), the device kinds (``devices``), the
framework adapters (``frameworks``) and the ONNX path (``onnx_backend``)."""
