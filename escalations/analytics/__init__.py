"""Metrics, queues, weekly report, exports."""
