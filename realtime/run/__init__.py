"""Running a show: the frame loop, the dream worker beside the display path, the display path itself,
the watchdog, the frame and event logs, and what the process asks of the system (priorities, memory)."""
