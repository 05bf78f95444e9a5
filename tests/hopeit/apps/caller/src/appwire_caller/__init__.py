"""appwire-caller: the app whose manifest appwire generates clients from."""
