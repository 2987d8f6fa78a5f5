package hooks

// HTTPHeaders is upstream's HttpHeaderPayload: a JSON object of header names to
// string values (a pydantic RootModel, so it dumps as the bare object). It is also
// the payload plugins return as modified_payload for http_pre_request and
// http_post_request. A nil HTTPHeaders is None.
type HTTPHeaders map[string]string

// HTTPPreRequestPayload is the payload of http_pre_request: an incoming HTTP
// request before authentication.
type HTTPPreRequestPayload struct {
	Path       string  `json:"path"`
	Method     string  `json:"method"`
	ClientHost *string `json:"client_host"`
	ClientPort *int    `json:"client_port"`
	// Headers is required (and deprecated upstream); nil is written as {}.
	Headers HTTPHeaders `json:"headers"`
}

// UnmarshalJSON rejects a missing path, method or headers.
func (p *HTTPPreRequestPayload) UnmarshalJSON(data []byte) error {
	const model = "HttpPreRequestPayload"
	type plain HTTPPreRequestPayload
	var v plain
	aux := struct {
		Path       *string      `json:"path"`
		Method     *string      `json:"method"`
		Headers    *HTTPHeaders `json:"headers"`
		ClientPort laxInt       `json:"client_port"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if err := requireRequest(model, aux.Path, aux.Method, aux.Headers); err != nil {
		return err
	}
	v.Path, v.Method, v.Headers = *aux.Path, *aux.Method, *aux.Headers
	v.ClientPort = aux.ClientPort.ptr()
	*p = HTTPPreRequestPayload(v)
	return nil
}

// MarshalJSON writes nil headers as {}: the field is required upstream.
func (p HTTPPreRequestPayload) MarshalJSON() ([]byte, error) {
	type plain HTTPPreRequestPayload
	p.Headers = requiredHeaders(p.Headers)
	return marshalPlain(plain(p))
}

// HTTPPostRequestPayload is the payload of http_post_request: the request of
// HTTPPreRequestPayload after the response was produced (upstream subclasses
// HttpPreRequestPayload, so the fields come in that order).
type HTTPPostRequestPayload struct {
	Path            string      `json:"path"`
	Method          string      `json:"method"`
	ClientHost      *string     `json:"client_host"`
	ClientPort      *int        `json:"client_port"`
	Headers         HTTPHeaders `json:"headers"`
	ResponseHeaders HTTPHeaders `json:"response_headers"`
	StatusCode      *int        `json:"status_code"`
}

// UnmarshalJSON rejects a missing path, method or headers.
func (p *HTTPPostRequestPayload) UnmarshalJSON(data []byte) error {
	const model = "HttpPostRequestPayload"
	type plain HTTPPostRequestPayload
	var v plain
	aux := struct {
		Path       *string      `json:"path"`
		Method     *string      `json:"method"`
		Headers    *HTTPHeaders `json:"headers"`
		ClientPort laxInt       `json:"client_port"`
		StatusCode laxInt       `json:"status_code"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if err := requireRequest(model, aux.Path, aux.Method, aux.Headers); err != nil {
		return err
	}
	v.Path, v.Method, v.Headers = *aux.Path, *aux.Method, *aux.Headers
	v.ClientPort, v.StatusCode = aux.ClientPort.ptr(), aux.StatusCode.ptr()
	*p = HTTPPostRequestPayload(v)
	return nil
}

// MarshalJSON writes nil headers as {}: the field is required upstream.
func (p HTTPPostRequestPayload) MarshalJSON() ([]byte, error) {
	type plain HTTPPostRequestPayload
	p.Headers = requiredHeaders(p.Headers)
	return marshalPlain(plain(p))
}

// HTTPAuthResolveUserPayload is the payload of http_auth_resolve_user: credentials
// to turn into a user. Plugins answer with a user object (a JSON object) as
// modified_payload.
type HTTPAuthResolveUserPayload struct {
	Credentials map[string]any `json:"credentials"`
	// Headers is required (and deprecated upstream); nil is written as {}.
	Headers    HTTPHeaders `json:"headers"`
	ClientHost *string     `json:"client_host"`
	ClientPort *int        `json:"client_port"`
}

// UnmarshalJSON rejects missing headers.
func (p *HTTPAuthResolveUserPayload) UnmarshalJSON(data []byte) error {
	const model = "HttpAuthResolveUserPayload"
	type plain HTTPAuthResolveUserPayload
	var v plain
	aux := struct {
		Headers    *HTTPHeaders `json:"headers"`
		ClientPort laxInt       `json:"client_port"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if aux.Headers == nil {
		return missing(model, "headers")
	}
	v.Headers, v.ClientPort = *aux.Headers, aux.ClientPort.ptr()
	*p = HTTPAuthResolveUserPayload(v)
	return nil
}

// MarshalJSON writes nil headers as {}: the field is required upstream.
func (p HTTPAuthResolveUserPayload) MarshalJSON() ([]byte, error) {
	type plain HTTPAuthResolveUserPayload
	p.Headers = requiredHeaders(p.Headers)
	return marshalPlain(plain(p))
}

// HTTPAuthCheckPermissionPayload is the payload of http_auth_check_permission.
// Plugins answer with an HTTPAuthCheckPermissionResultPayload.
type HTTPAuthCheckPermissionPayload struct {
	UserEmail    string  `json:"user_email"`
	Permission   string  `json:"permission"`
	ResourceType *string `json:"resource_type"`
	TeamID       *string `json:"team_id"`
	IsAdmin      bool    `json:"is_admin"`
	AuthMethod   *string `json:"auth_method"`
	ClientHost   *string `json:"client_host"`
	UserAgent    *string `json:"user_agent"`
}

// UnmarshalJSON rejects a missing user_email or permission.
func (p *HTTPAuthCheckPermissionPayload) UnmarshalJSON(data []byte) error {
	const model = "HttpAuthCheckPermissionPayload"
	type plain HTTPAuthCheckPermissionPayload
	var v plain
	aux := struct {
		UserEmail  *string `json:"user_email"`
		Permission *string `json:"permission"`
		IsAdmin    laxBool `json:"is_admin"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	v.IsAdmin = aux.IsAdmin.v // absent: false, the default
	if aux.UserEmail == nil {
		return missing(model, "user_email")
	}
	if aux.Permission == nil {
		return missing(model, "permission")
	}
	v.UserEmail, v.Permission = *aux.UserEmail, *aux.Permission
	*p = HTTPAuthCheckPermissionPayload(v)
	return nil
}

// HTTPAuthCheckPermissionResultPayload is a plugin's permission decision, the
// cross-type modified_payload of http_auth_check_permission.
type HTTPAuthCheckPermissionResultPayload struct {
	Granted bool    `json:"granted"`
	Reason  *string `json:"reason"`
}

// UnmarshalJSON rejects a missing granted.
func (p *HTTPAuthCheckPermissionResultPayload) UnmarshalJSON(data []byte) error {
	const model = "HttpAuthCheckPermissionResultPayload"
	type plain HTTPAuthCheckPermissionResultPayload
	var v plain
	aux := struct {
		Granted laxBool `json:"granted"`
		*plain
	}{plain: &v}
	if err := decodeInto(data, model, &aux); err != nil {
		return err
	}
	if !aux.Granted.set {
		return missing(model, "granted")
	}
	v.Granted = aux.Granted.v
	*p = HTTPAuthCheckPermissionResultPayload(v)
	return nil
}

func requireRequest(model string, path, method *string, headers *HTTPHeaders) error {
	switch {
	case path == nil:
		return missing(model, "path")
	case method == nil:
		return missing(model, "method")
	case headers == nil:
		return missing(model, "headers")
	}
	return nil
}

func requiredHeaders(h HTTPHeaders) HTTPHeaders {
	if h == nil {
		return HTTPHeaders{}
	}
	return h
}
