"""Job-level glue called by the workflow scripts: read inputs, call the science modules, write outputs."""
