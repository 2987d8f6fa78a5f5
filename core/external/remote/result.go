package remote

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/cpex-go/cpex/core"
)

// wireResult is upstream PluginResult's JSON form.
type wireResult struct {
	ContinueProcessing *bool          `json:"continue_processing"`
	ModifiedPayload    any            `json:"modified_payload"`
	Violation          *wireViolation `json:"violation"`
	Metadata           map[string]any `json:"metadata"`
	RetryDelayMs       *int           `json:"retry_delay_ms"`
	DenialMetadata     map[string]any `json:"denial_metadata"`
}

type wireViolation struct {
	Reason         *string           `json:"reason"`
	Description    *string           `json:"description"`
	Code           *string           `json:"code"`
	Details        map[string]any    `json:"details"`
	PluginName     *string           `json:"plugin_name"`
	MCPErrorCode   *int              `json:"mcp_error_code"`
	HTTPStatusCode *int              `json:"http_status_code"`
	HTTPHeaders    map[string]string `json:"http_headers"`
}

// DecodeResult reads upstream PluginResult's JSON form (what every transport carries:
// MCP as text, gRPC and the Unix socket as a Struct). Numbers stay json.Number.
func DecodeResult(raw []byte) (*core.Result, error) {
	var wr wireResult
	if err := UnmarshalExact(raw, &wr); err != nil {
		return nil, err
	}
	return wr.toResult()
}

func (wr *wireResult) toResult() (*core.Result, error) {
	res := &core.Result{Metadata: wr.Metadata}
	if wr.DenialMetadata != nil { // MCP carries it in the result JSON; sanitised as every peer's
		res.DenialMetadata = SanitizeDenial(wr.DenialMetadata)
	}
	if wr.ContinueProcessing != nil {
		res.Block = !*wr.ContinueProcessing
	}
	if wr.ModifiedPayload != nil {
		if _, isObj := wr.ModifiedPayload.(map[string]any); !isObj {
			return nil, fmt.Errorf("modified_payload: want an object, got %T", wr.ModifiedPayload)
		}
		res.ModifiedPayload = wr.ModifiedPayload
	}
	if wr.RetryDelayMs != nil {
		if *wr.RetryDelayMs < 0 {
			return nil, fmt.Errorf("retry_delay_ms: must be >= 0, got %d", *wr.RetryDelayMs)
		}
		res.RetryDelayMs = *wr.RetryDelayMs
	}
	if v := wr.Violation; v != nil {
		if v.Reason == nil || v.Description == nil || v.Code == nil {
			return nil, fmt.Errorf("violation: reason, description and code are required")
		}
		res.Violation = &core.Violation{Reason: *v.Reason, Description: *v.Description, Code: *v.Code,
			Details: v.Details, MCPErrorCode: v.MCPErrorCode, HTTPStatusCode: v.HTTPStatusCode, HTTPHeaders: v.HTTPHeaders}
		if res.Violation.Details == nil {
			res.Violation.Details = map[string]any{}
		}
		if v.PluginName != nil {
			res.Violation.PluginName = *v.PluginName
		}
	}
	return res, nil
}

// UnmarshalExact decodes JSON keeping numbers as json.Number and refusing trailing data.
func UnmarshalExact(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
