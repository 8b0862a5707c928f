# platform/: the only rooms that touch the world. Sockets and the clock (netif_unix, netif_lwip),
# the control socket, the service thread, and applying a client lease to an interface (wan4).
