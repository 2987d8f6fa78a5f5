package isolated

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cpex-go/cpex/core/config"
)

// Worker features of protocol v1 this host knows. A worker's list is intersected with
// these: an unknown name a worker claims grants nothing.
const (
	FeatureCredential         = "credential"
	FeatureExtensions         = "extensions"
	FeatureModifiedExtensions = "modified_extensions"
)

var knownFeatures = map[string]bool{FeatureCredential: true, FeatureExtensions: true, FeatureModifiedExtensions: true}

// credentialHooks receive a raw credential, which only a worker with the credential
// feature reconstructs.
var credentialHooks = map[string]bool{"identity_resolve": true, "token_delegate": true}

// Features is what a worker answered to the capabilities handshake.
type Features struct {
	Protocol    int
	Names       map[string]bool
	CPEXVersion string
}

// parseFeatures reads the handshake answer. A worker predating the handshake answers
// an error ("task type not supported."): no features, protocol 1.
func parseFeatures(a answer) (Features, error) {
	f := Features{Protocol: ProtocolVersion, Names: map[string]bool{}}
	if a.status == "error" {
		return f, nil
	}
	var body struct {
		Protocol *json.Number `json:"protocol_version"`
		Features []any        `json:"features"`
		Version  *string      `json:"cpex_version"`
	}
	b, _ := json.Marshal(a.raw)
	if err := json.Unmarshal(b, &body); err != nil {
		return f, fmt.Errorf("invalid capabilities answer: %v", err)
	}
	if body.Protocol != nil {
		n, err := body.Protocol.Int64()
		if err != nil || n < 1 {
			return f, fmt.Errorf("invalid capabilities answer: protocol_version %s", body.Protocol.String())
		}
		f.Protocol = int(n)
	}
	if f.Protocol != ProtocolVersion {
		return f, fmt.Errorf("worker speaks protocol %d, this host speaks %d", f.Protocol, ProtocolVersion)
	}
	for _, x := range body.Features {
		if s, ok := x.(string); ok && knownFeatures[s] {
			f.Names[s] = true
		}
	}
	if body.Version != nil {
		f.CPEXVersion = *body.Version
	}
	return f, nil
}

// requiredFeatures is what pc needs from its worker: credential for a credential hook,
// extensions when it was granted capabilities (extension access).
func requiredFeatures(pc *config.PluginConfig) []string {
	var need []string
	for _, h := range pc.Hooks {
		if credentialHooks[h] {
			need = append(need, FeatureCredential)
			break
		}
	}
	if len(pc.Capabilities) > 0 {
		need = append(need, FeatureExtensions)
	}
	return need
}

// missing lists the required features f lacks (sorted).
func (f Features) missing(need []string) []string {
	var out []string
	for _, n := range need {
		if !f.Names[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (f Features) String() string {
	names := make([]string, 0, len(f.Names))
	for n := range f.Names {
		names = append(names, n)
	}
	sort.Strings(names)
	return "[" + strings.Join(names, ", ") + "]"
}
