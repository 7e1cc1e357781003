// Package pppdcompat reads pppd's command line and options files into
// Options, as pppd 2.4.9 with its rp-pppoe.so plugin reads them, so that
// pppoed can stand in for /usr/sbin/pppd (issue 11): Debian's
// /etc/ppp/peers files started by pon, OpenWrt's netifd ppp.sh command
// line, hand-written peers files.
//
// Load reads, in pppd's order (main.c), the system options file
// (/etc/ppp/options), ~/.ppprc, the command line, each "file F" and
// "call NAME" where it appears, and, once a PPPoE interface is named,
// /etc/ppp/options.IF (the plugin's PPPOEDeviceOptions). Words are split
// by internal/pppword, pppd's getword. Each source has pppd's privilege
// and priority (options.c):
//
//   - /etc/ppp/options: privileged, priority OPRIO_CFGFILE; it must exist
//     unless the real user is root.
//   - ~/.ppprc (the real user's home from the password database, not
//     $HOME): privileged only if the real user is, OPRIO_CFGFILE, read
//     with the real user's rights (check_prot); a missing one is fine.
//   - the command line: privileged only if the real user is,
//     OPRIO_CMDLINE.
//   - "file F": the privilege of the source naming it, the current
//     priority, read as the real user.
//   - "call NAME" (/etc/ppp/peers/NAME; NAME may not start with "/" nor
//     have a ".." component): always privileged, the current priority,
//     read as the real user.
//   - /etc/ppp/options.IF: privileged, OPRIO_CMDLINE (the priority left
//     by the command line), after it; the interface can no longer change.
//
// An option marked OPT_PRIV in pppd (noauth, ifname, linkname, plugin,
// replacedefaultroute, defaultroute-metric, name, the script paths, ...)
// from a source that is not privileged is refused with pppd's "using the
// %s option requires root privilege". Options in a priority group
// (OPT_PRIO, OPT_PRIOSUB: persist/nopersist, auth/noauth/require-*, mru,
// user, password, ...) keep the value of the highest priority, the
// later of equals; an OPT_PRIVFIX option (connect, pty, ...) set by a
// privileged source gains OPRIO_ROOT, so that the user's command line
// cannot override it ("... set in F cannot be overridden").
//
// Every pppd 2.4.9 option is known (Table lists them with what pppoed
// does with each): those pppoed honours set a field of Options; those
// that mean nothing on PPPoE or to pppoed are accepted with one warning
// in Options.Warnings; those asking for what pppoed cannot do are
// recorded in Options.Unsupported, which Check refuses. Check also does
// pppd's checks that follow the parsing.
//
// Errors are one line in pppd's words, naming the option and where it
// came from ("In file F (line N): ..." for a file, pppd's bare message
// for the command line); they are *Error values. Unlike the rest of
// pppoed they carry no package prefix: they are what pppd would print
// after its program name. Words from the files are escaped in messages
// (one line, no control characters), and a password never appears in an
// error or a warning.
package pppdcompat
