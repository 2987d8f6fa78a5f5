// Package plugin is the plugin model shared by the engine, the hosts and plugin authors:
// the [Plugin] interface and what a call hands it and gets back ([Payload],
// [PluginContext], [Result], [Violation]), execution records, the errors a hook call
// ends with, and the registries of Go plugin factories (factories.go) and external
// transports (external.go). Payload JSON is read by jsondec.go and rawfield.go.
package plugin
