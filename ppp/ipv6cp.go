package ppp

// ipv6cpLayer is IPv6CP (RFC 5072): each side proposes a random non-zero
// interface identifier and resolves collisions as §4.1 prescribes.
type ipv6cpLayer struct {
	s   *Session
	cfg IPv6Config

	id    InterfaceID
	negID bool
	peer  InterfaceID
	isUp  bool // IPv6Up was reported
}

// randomID is a random non-zero identifier with the "u" bit clear, as
// for any identifier not derived from a global EUI-64 (RFC 4291 §2.5.1),
// and different from avoid.
func (l *ipv6cpLayer) randomID(avoid InterfaceID) InterfaceID {
	for {
		var id InterfaceID
		l.s.random(id[:])
		id[0] &^= 0x02
		if id != (InterfaceID{}) && id != avoid {
			return id
		}
	}
}

func (l *ipv6cpLayer) resetOptions() {
	l.negID = true
	l.id = l.cfg.InterfaceID
	if l.id == (InterfaceID{}) {
		l.id = l.randomID(InterfaceID{})
	}
}

func (l *ipv6cpLayer) request() []byte {
	var opts []Option
	if l.negID {
		opts = append(opts, l.id)
	}
	b, _ := AppendOptions(nil, opts)
	return b
}

// acked has nothing to commit, as IPCP's.
func (l *ipv6cpLayer) acked() {}

func (l *ipv6cpLayer) nak(data []byte, treatAsReject bool) bool {
	opts, err := ParseOptions(ProtoIPv6CP, data)
	if err != nil {
		return false
	}
	for _, o := range opts {
		v, ok := o.(InterfaceID)
		if !ok {
			continue
		}
		if treatAsReject {
			l.negID = false
			continue
		}
		if v == (InterfaceID{}) || v == l.peer {
			// No suggestion, or the peer's own: pick another.
			l.id = l.randomID(l.peer)
			continue
		}
		l.id = v // the peer's suggestion (RFC 5072 §4.1)
	}
	return true
}

func (l *ipv6cpLayer) reject(data []byte) bool {
	opts, err := ParseOptions(ProtoIPv6CP, data)
	if err != nil {
		return false
	}
	// As LCP's: an invalid Reject changes nothing.
	for _, o := range opts {
		if _, ok := o.(InterfaceID); !ok {
			return false
		}
	}
	l.negID = false // the automaton drops a Reject that lists nothing
	return true
}

// configure applies RFC 5072 §4.1 to the peer's identifier.
func (l *ipv6cpLayer) configure(data []byte, rejectIfDisagree bool) (Code, []byte) {
	opts, _ := ParseOptions(ProtoIPv6CP, data)
	var nak, nakOrig, rej []Option
	peer := InterfaceID{}
	for _, o := range opts {
		v, ok := o.(InterfaceID)
		if !ok {
			rej = append(rej, o) // IPv6 header compression and the unknown
			continue
		}
		zero := v == (InterfaceID{})
		if zero && !l.negID {
			// Both zero: "MUST be Configure-Rejected".
			rej = append(rej, o)
			continue
		}
		if zero || v == l.id {
			// Zero, or the same as ours: suggest another, non-zero one.
			nak, nakOrig = append(nak, l.randomID(l.id)), append(nakOrig, o)
			continue
		}
		peer = v
	}
	if code, b, ok := refuse(rej, nak, nakOrig, rejectIfDisagree); ok {
		return code, b
	}
	l.peer = peer
	return CodeConfAck, data
}

// up reports the link-local pair. A peer that never sent an identifier
// leaves no address for its end; pppd's ipv6cp_up closes IPv6CP then,
// and so do we.
func (l *ipv6cpLayer) up() {
	if l.peer == (InterfaceID{}) {
		l.s.ipv6cp.failure = "the peer sent no interface identifier"
		l.s.log.Warn("ppp: IPv6CP: " + l.s.ipv6cp.failure + "; closing IPv6CP")
		l.s.ipv6cp.Close("Could not determine remote LL address")
		return
	}
	l.isUp = true
	l.s.emit(IPv6Up{Local: l.id, Peer: l.peer})
}

func (l *ipv6cpLayer) down() {
	if l.isUp {
		l.isUp = false
		l.s.emit(IPv6Down{})
	}
}

func (l *ipv6cpLayer) starting()                          {}
func (l *ipv6cpLayer) finished()                          { l.s.ncpFinished(l.s.ipv6cp) }
func (l *ipv6cpLayer) extension(Code, uint8, []byte) bool { return false }
