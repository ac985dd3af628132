"""Steering a show: what the operator, OSC, the control page, MIDI, the sound and the playlist change
(the Show object, the control requests, their sources and the modulation)."""
