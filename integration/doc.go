// Package integration holds pppoed's tests that need a real PPP kernel:
// network namespaces joined by veth pairs, the reference peers (Debian's
// pppoe-server and pppd with rp-pppoe.so) and, as they land, pppoed itself.
//
// Run them with `make test-integration`, which boots a VM with Debian's
// kernel through integration/vmrun when this host's kernel lacks PPP. Run
// any other way they skip with a one-line reason, or fail when
// PPPOED_REQUIRE_INTEGRATION=1.
//
// Subpackages: vm (the VM runner's library), vmrun (its command), lab (the
// test harness) and demo (the `make demo` program).
package integration
