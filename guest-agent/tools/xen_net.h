// The network half of a Bulkhead domain on Xen (xen_net.cpp): `bulkhead-xen-init --net`.
#pragma once

// Runs for the domain's lifetime; returns only if xenstore cannot be opened (status 1).
int run_network();
