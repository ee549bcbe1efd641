/* SPDX-License-Identifier: MIT */
/*
 * tcppair.h - TCP connections on 127.0.0.1 that a program makes with itself, for the demos
 * that need a real TCP connection (urgent data, FIN, RST) but no separate server.
 */
#ifndef TCPPAIR_H
#define TCPPAIR_H

#include <sys/socket.h>

/*
 * tcp_bound - a TCP socket bound to 127.0.0.1 with a port the kernel chooses, and its address
 * in *addr / *len. Not listening: a connection to that address is refused (RST), and since
 * the socket holds the port no other program can take it meanwhile.
 */
int tcp_bound(struct sockaddr_storage *addr, socklen_t *len);

/*
 * tcp_pair - a connected TCP pair on 127.0.0.1: *client made the connection, *server is the
 * accepted end. Both blocking, TCP_NODELAY on the client so each send() is its own segment.
 */
void tcp_pair(int *client, int *server);

#endif
