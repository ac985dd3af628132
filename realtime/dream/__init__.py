"""The dream itself: the model file, the engine that owns its session, gradient transforms, octaves,
optical flow and the live stream. Pure computation on arrays: no threads, sockets, files of the
user's or windows here (tests/test_architecture.py holds it to that)."""
