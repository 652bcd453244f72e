"""Console components: plain functions returning `rx.Component`."""
