"""The report: the HTML site and Markdown summary (``site``), its style (``style``), the
figure checks (``check``), and the pages and sentences that span families (``anchors``,
``devices``, ``memory``, ``headline``, ``training``). Each family's own page lives with the
family (``spikebench.families.<family>.report``).

This package's ``__init__`` imports nothing: a family's report module imports ``style`` from
here while the site imports the families, and neither may wait on the other."""
