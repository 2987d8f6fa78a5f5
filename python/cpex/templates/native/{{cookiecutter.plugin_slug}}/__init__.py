"""{{ cookiecutter.plugin_name }}: {{ cookiecutter.description }} (an in-process cpex plugin by {{ cookiecutter.author }})."""
