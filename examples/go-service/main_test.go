package main

// The example's output is part of its documentation: keep it running.
func Example_main() {
	main()
	// Output:
	// loaded 2 plugins: audit-log, arg-guard
	// read_file /srv/app/readme.txt: allowed (2 plugins ran)
	// read_file result: {"name":"read_file","result":"hello token=[redacted] bye"} metadata=map[arg-guard:masked]
	// read_file /etc/shadow: blocked by arg-guard: FORBIDDEN_PATH (argument "path" names /etc/shadow)
}
