# The RBAC question every engine answers (core/builtins/pdptest.RBACCases): a tool is
# allowed for admins, or for analysts in tenant acme on read_ tools. Read by
# core/builtins/pdprego's tests and tests/py/pdp/test_pdp_parity.py.
package cpex.tools

default allow := false

allow if "admin" in input.user.roles

allow if {
	"analyst" in input.user.roles
	input.tenant_id == "acme"
	startswith(input.payload.name, "read_")
}
