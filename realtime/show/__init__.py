"""The show: what steers a running dream (parameters, playlist, keys, OSC) and the loop that runs it,
with its logs and watchdog."""
