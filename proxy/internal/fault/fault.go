// Package fault names deliberate deviations from the rules the reference
// proxy enforces. Each fault breaks exactly one rule, at the place where the
// proxy enforces it, so that the conformance harness can prove that every
// case is able to fail: a suite that passes a correct proxy proves nothing
// unless it also fails a proxy with each known bug.
//
// Faults exist only in builds with the proxyspec_faults tag. In default
// builds a [Set] is an empty struct whose Has method returns the constant
// false, so every fault check is removed by the compiler, and [Parse]
// rejects any fault name: a production binary cannot be made faulty by
// configuration.
package fault

// Fault identifies one deviation. The names, descriptions and the rules
// they break are in the catalogue of tagged builds (List).
type Fault uint8

// Faults, grouped by the part of the proxy that checks them.
const (
	_ Fault = iota

	// Request line and field syntax (proxy/h1).
	LeadingEmptyLineRejected
	BareCREndsRequestLine
	VersionCaseInsensitive
	VersionPrefixParsed
	TargetWithSpaces
	StartLineWhitespaceForwarded
	ObsFoldForwarded
	SpaceBeforeColonForwarded
	FieldNameNotToken
	LineWithoutColonIgnored
	NULInValueForwarded
	BareCRInValueForwarded
	MissingHostAccepted
	DuplicateHostFirstWins
	InvalidHostAccepted
	ValueTrimIsspace
	OWSTabKept
	FieldNameCaseSensitive
	HeadEndsAtBareCR
	BareLFInValueForwarded
	ValueTruncatedAtNUL
	ObsFoldDropped
	AbsoluteFormAuthorityIgnored
	AbsoluteFormRejected
	TargetBytesUnchecked
	HTTP1xRejected
	RequestLineAnyWhitespace
	MethodCaseInsensitive
	AbsoluteFormUserinfoAccepted
	AsteriskFormAsSlash
	LongMethodRejected
	ShortTargetLimit

	// Request framing (proxy/h1).
	CLSignAccepted
	CLFirstWins
	CLLastWins
	CLListFirstElement
	CLTEContentLengthWins
	CLTEKeepAlive
	ChunkedNotFinalAccepted
	UnknownCodingIgnored
	CodingCaseSensitive
	TEEmptyElementRejected
	HTTP10BodyUntilClose
	CLIgnored
	TEIgnored
	ExpectBodySkipped
	CLOverflowWraps
	CLDigitsTruncated
	ConnectionHidesContentLength
	ChunkedParametersIgnored
	ContentEncodingChunkedFrames
	BodyEOFAsEnd

	// Chunked coding (proxy/h1).
	ChunkLineBareLF
	ChunkSizeOverflowWraps
	ChunkSizeStrtol
	ChunkLineTailIgnored
	ChunkDataCRLFOptional
	ChunkDataSpillIgnored
	ChunkDataCRLFUnchecked
	ChunkExtraCRLFSkipped
	ChunkExtRejected
	ChunkSizeCanonicalOnly
	ChunkTrailerNotRead

	// Forwarding and connection management (proxy).
	ConnectionOptionsForwarded
	HopByHopForwarded
	ViaMissing
	ViaOverwritten
	MaxForwardsIgnored
	BodyOverreadForwarded
	HTTP10KeepAlive
	ServedAfterClose
	CloseNotAnnounced
	KeepAliveLimitOffByOne
	FramingErrorKeepsConnection
	PipelinedDiscarded
	Connect405WithoutAllow
	ConnectionDropsHost
	EmptyFieldDropped
	RepeatedFieldLastWins
	ObsTextReencoded
	LimitSilentClose
	KeepAliveLimitOneShort
	NoPersistentConnections
	HostFromFirstRequest

	// Responses (proxy and proxy/h1).
	InterimToHTTP10
	InterimDropped
	ChunkedToHTTP10
	ResponseTECLForwarded
	ResponseInvalidCLReadToClose
	HeadResponseBodyRead
	Response204BodyRead
	Response304BodyRead
	Response204CLForwarded
	ResponseUnframedEmpty
	UpstreamCloseIgnored
	UpstreamStrayBytesPooled
	UpstreamHTTP10Reused
	InterimBodyRead
	EmptyReasonRejected

	// Upgrades (proxy).
	UpgradeTunnelAnyStatus
	UpgradeUnsolicited101
	UpgradeProtocolUnchecked
	UpgradeHTTP10Honoured
	UpgradeBodyAsTunnel
	Upgrade101StaysHTTP
	Upgrade426Stripped

	// Range filter (proxy).
	RangeUnsatisfiable206
	Range416WithoutContentRange
	RangeEndExclusive
	RangeOnPost
	IfRangeIgnored
	RangeMultiFirstOnly
	RangeOnPartial

	numFaults // one past the last fault
)

// Info describes a fault.
type Info struct {
	Name        string `json:"name"`        // stable kebab-case name
	Description string `json:"description"` // one line: what the faulty proxy does
	Rule        string `json:"rule"`        // the rule it breaks, with its RFC section
	BugClass    string `json:"bug_class"`   // the real bug class it mirrors, with its source
}
