"""What a perception lab adds to a run: protocols of dosed trials, their order, BIDS events, LSL streams,
the photodiode patch, the session kept and replayed."""
