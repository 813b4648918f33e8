"""One module per CLI command (see ``symndk.cli.COMMANDS``)."""
