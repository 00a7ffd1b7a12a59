"""What each command does, named like the command: the CLI only parses arguments and prints."""
