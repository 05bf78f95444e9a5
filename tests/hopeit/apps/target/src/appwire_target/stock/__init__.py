"""Events of the stock group."""
