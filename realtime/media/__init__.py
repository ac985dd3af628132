"""Media in and out: sources that yield timestamped frames, sinks with write(frame) and close(),
still images, recordings, and the HTTP viewer."""
