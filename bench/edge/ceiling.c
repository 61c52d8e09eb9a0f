// The least an HTTP/1.1 server can do per request on this kernel: the ceiling of what any server reaches in
// bench/edge/run.sh's playlist rows, measured in the same run as nginx and StreamVerse (bench/RESULTS.md, "Ceiling").
// Not a server anyone should run: it answers every request head on a keep-alive connection with the same bytes (a
// status line and headers like nginx's, then FILE's contents read once at start), with one recv and one send per
// readiness event, one epoll loop per thread on its own SO_REUSEPORT listener (as nginx's workers). No parsing beyond
// finding the end of each head, no date, no logging, no routing.
// Build: gcc -O2 -pthread -o ceiling bench/edge/ceiling.c      Run: ./ceiling PORT FILE THREADS
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_BYTES 8192
#define OUT_BYTES 65536

static char *response;
static size_t response_len;
static int port;

struct conn {
    int fd;
    size_t in_len;            // unconsumed bytes of a head not yet complete
    size_t out_off, out_len;  // bytes queued but not yet sent (a full socket buffer)
    char in[IN_BYTES];
    char out[OUT_BYTES];
};

static int listener(void) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4096)) { perror("listen"); exit(1); }
    return s;
}

static void close_conn(struct conn *c) { close(c->fd); free(c); }

// Sends what is queued; 0 when all went, 1 when the socket buffer is full, -1 on error.
static int flush(int ep, struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN) return -1;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return 1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

static void on_event(int ep, struct conn *c, unsigned events) {
    if (c->out_len) {  // waiting for room: send the rest first
        int r = flush(ep, c);
        if (r < 0) { close_conn(c); return; }
        if (r > 0) return;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        if (!(events & EPOLLIN)) return;
    }
    ssize_t n = recv(c->fd, c->in + c->in_len, IN_BYTES - c->in_len, 0);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        close_conn(c);
        return;
    }
    size_t len = c->in_len + (size_t)n, start = 0;
    for (;;) {
        char *end = memmem(c->in + start, len - start, "\r\n\r\n", 4);
        if (!end) break;
        start = (size_t)(end - c->in) + 4;
        if (c->out_len + response_len > OUT_BYTES) { close_conn(c); return; }  // more pipelined than it queues
        memcpy(c->out + c->out_len, response, response_len);
        c->out_len += response_len;
    }
    if (start == 0 && len == IN_BYTES) { close_conn(c); return; }  // a head larger than the buffer
    memmove(c->in, c->in + start, len - start);
    c->in_len = len - start;
    if (c->out_len && flush(ep, c) < 0) close_conn(c);
}

static void *worker(void *arg) {
    (void)arg;
    int ls = listener(), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, events[512];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int k = epoll_wait(ep, events, 512, -1);
        for (int i = 0; i < k; i++) {
            struct conn *c = events[i].data.ptr;
            if (c) { on_event(ep, c, events[i].events); continue; }
            int fd;
            while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct conn *nc = calloc(1, sizeof *nc);
                nc->fd = fd;
                struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s PORT FILE THREADS\n", argv[0]); return 2; }
    port = atoi(argv[1]);
    int threads = atoi(argv[3]);
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char head[512];
    int head_len = snprintf(head, sizeof head,
        "HTTP/1.1 200 OK\r\nServer: ceiling\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
        "Content-Type: application/vnd.apple.mpegurl\r\nContent-Length: %ld\r\n"
        "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6b108d5e-661\"\r\n"
        "Accept-Ranges: bytes\r\n\r\n", size);
    response_len = (size_t)head_len + (size_t)size;
    if (response_len > OUT_BYTES) { fprintf(stderr, "file too large for this instrument\n"); return 1; }
    response = malloc(response_len);
    memcpy(response, head, (size_t)head_len);
    if (fread(response + head_len, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 1; }
    fclose(f);
    pthread_t t[64];
    for (int i = 0; i < threads && i < 64; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads && i < 64; i++) pthread_join(t[i], NULL);
    return 0;
}
