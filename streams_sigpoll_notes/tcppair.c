/* SPDX-License-Identifier: MIT */
/*
 * tcppair.c - TCP connections a program makes with itself; contracts in tcppair.h.
 */
#include "tcppair.h"
#include "labutil.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

int tcp_bound(struct sockaddr_storage *addr, socklen_t *len)
{
    struct sockaddr_storage want;
    socklen_t want_len = parse_addr("address", "127.0.0.1", 0, &want);
    int fd = bound_socket(SOCK_STREAM, &want, want_len);

    *len = sizeof *addr;
    if (getsockname(fd, (struct sockaddr *)addr, len) == -1)
        die("getsockname(%d)", fd);
    return fd;
}

void tcp_pair(int *client, int *server)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int one = 1;
    int listener = tcp_bound(&addr, &len);

    if (listen(listener, 1) == -1)
        die("listen(%d)", listener);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client == -1)
        die("socket(AF_INET, SOCK_STREAM)");
    if (setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
        die("setsockopt(%d, TCP_NODELAY)", *client);
    /* A blocking connect to a listener on loopback completes at once; the connection then
     * waits in the backlog for the accept below. */
    if (connect(*client, (struct sockaddr *)&addr, len) == -1)
        die("connect(%d, 127.0.0.1)", *client);
    *server = accept(listener, NULL, NULL);
    if (*server == -1)
        die("accept(%d)", listener);
    close(listener);
}
