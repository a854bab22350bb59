package proxy

// proto is the scheme clients use on l, sent upstream as X-Forwarded-Proto.
func (l *listener) proto() string {
	if l.opts.TLS != nil {
		return "https"
	}
	return "http"
}
