package hooks

// ResourcePreFetchPayload is the payload of resource_pre_fetch: a resource about
// to be fetched.
type ResourcePreFetchPayload struct {
	URI string `json:"uri"`
	// Metadata defaults to {} when absent; an explicit null stays nil (None).
	Metadata map[string]any `json:"metadata"`
}

// UnmarshalJSON applies upstream's defaults and rejects a missing uri.
func (p *ResourcePreFetchPayload) UnmarshalJSON(data []byte) error {
	const model = "ResourcePreFetchPayload"
	type plain ResourcePreFetchPayload
	v := plain{Metadata: map[string]any{}}
	aux := struct {
		URI *string `json:"uri"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.URI == nil {
		return missing(model, "uri")
	}
	v.URI = *aux.URI
	*p = ResourcePreFetchPayload(v)
	return nil
}

// ResourcePostFetchPayload is the payload of resource_post_fetch: a fetched
// resource. The gateway passes a ResourceContent as Content; read it typed with
// ResourceContent.
type ResourcePostFetchPayload struct {
	URI string `json:"uri"`
	// Content is required but may be null (pydantic Any).
	Content any `json:"content"`
}

// UnmarshalJSON rejects a missing uri or content.
func (p *ResourcePostFetchPayload) UnmarshalJSON(data []byte) error {
	const model = "ResourcePostFetchPayload"
	var aux struct {
		URI     *string  `json:"uri"`
		Content anyValue `json:"content"`
	}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.URI == nil {
		return missing(model, "uri")
	}
	if !aux.Content.set {
		return missing(model, "content")
	}
	*p = ResourcePostFetchPayload{URI: *aux.URI, Content: aux.Content.v}
	return nil
}

// ResourceContent decodes Content as the gateway's (legacy) ResourceContent.
func (p ResourcePostFetchPayload) ResourceContent() (ResourceContent, error) {
	var rc ResourceContent
	err := convert("ResourceContent", p.Content, &rc)
	return rc, err
}
