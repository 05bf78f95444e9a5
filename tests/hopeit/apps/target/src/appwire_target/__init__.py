"""appwire-target: the events appwire's generated clients call on a real hopeit.engine server."""
