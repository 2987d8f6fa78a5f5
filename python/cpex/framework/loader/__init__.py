"""Loading the config file (:mod:`.config`) and plugin classes (:mod:`.plugin`)."""
