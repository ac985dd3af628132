"""The `deepdream` subcommands, each putting a dream, media and the show together for one job."""
