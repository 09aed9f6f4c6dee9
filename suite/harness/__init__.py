"""Measuring: the sweep session (runner), the isolated workers, the timer and the memory figures."""
