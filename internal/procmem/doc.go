// Package procmem gives back to the kernel the memory a settled daemon
// no longer needs (Linux; elsewhere it does nothing).
//
// A Go binary is one static image, and its text and read-only data are
// mapped from the file: each page the process touches stays in its page
// table, so that RSS (and PSS) counts, for as long as the process lives,
// every page of code that ran once, and with the kernel's fault-around
// (fault_around_bytes, 64 KiB) their neighbours. A client daemon runs
// most of its code once, to set a session up: flag and file parsing,
// package initialisation, discovery, authentication, netlink. Once the
// session is up, TrimImage drops the image's page-table entries; the
// pages stay in the page cache, shared and clean, and the few the daemon
// still runs are mapped again at their next use (a minor fault). What is
// no longer mapped the kernel reclaims first under pressure.
package procmem
