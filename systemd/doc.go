// Package systemd connects pppoed to systemd: readiness and status for
// Type=notify services (sd_notify), the watchdog, and the unit files
// pppoed installs.
package systemd
