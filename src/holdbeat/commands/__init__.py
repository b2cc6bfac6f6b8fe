"""One module per CLI subcommand; each defines `register(subparsers)`. cli.py discovers them."""
