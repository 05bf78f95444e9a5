"""auth-echo: a plugin whose OnApp event answers with the credentials it received."""
