"""Faults injected on purpose, under load, and every event checked afterwards: the API killed with kill -9,
PostgreSQL restarted, connections cut by a TCP proxy, the projector killed mid-batch, and devices with skewed clocks."""
