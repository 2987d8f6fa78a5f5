package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exported lists the exported top-level names (types, consts, vars, funcs) of the
// non-test files of the package in dir.
func exported(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fs := token.NewFileSet()
	pkgs, err := parser.ParseDir(fs, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	require.NoError(t, err)
	out := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil && d.Name.IsExported() {
						out[d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.TypeSpec:
							if s.Name.IsExported() {
								out[s.Name.Name] = true
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									out[n.Name] = true
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// The facade (facade_*.go) keeps every public name of the split packages importable as
// core.X: a name added to a package must be added to its facade file too.
func TestFacadeIsComplete(t *testing.T) {
	core := exported(t, ".")
	for _, pkg := range []string{"plugin", "engine", "host"} {
		for name := range exported(t, filepath.Join(".", pkg)) {
			assert.True(t, core[name], "core/%s exports %s, which core/facade_%s.go lacks", pkg, name, pkg)
		}
	}
}
