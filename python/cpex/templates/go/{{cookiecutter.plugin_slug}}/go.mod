module {{ cookiecutter.go_module }}

go 1.26.0

require github.com/cpex-go/cpex v0.0.0

// cpex's Go core is used from a checkout until it is published as a tagged module:
// point this at yours (go mod edit -replace github.com/cpex-go/cpex=/path/to/cpex).
replace github.com/cpex-go/cpex => ../cpex
