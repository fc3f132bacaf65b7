#include "common/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileutil.h"

void http_url_free(struct http_url *url)
{
	free(url->socket_path);
	free(url->host);
	free(url->port);
	free(url->authority);
	free(url->base_path);
	memset(url, 0, sizeof *url);
}

int http_url_parse(const char *text, struct http_url *url, struct evo_error *err)
{
	memset(url, 0, sizeof *url);
	if (strncmp(text, "unix:", 5) == 0) {
		const char *path = text + 5;
		if (path[0] != '/' || strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": a unix socket needs an absolute path of at most "
					     "107 bytes",
					     text);
		url->socket_path = xstrdup(path);
		url->authority = xstrdup("localhost");
		url->base_path = xstrdup("");
		return 0;
	}
	const char *p = text;
	const char *scheme_end = strstr(p, "://");
	if (scheme_end && scheme_end == p + strcspn(p, ":/?#")) {
		size_t n = (size_t)(scheme_end - p);
		if (n == 5 && strncasecmp(p, "https", 5) == 0)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": https is not supported: the CLI speaks plain "
					     "HTTP to evoclaw serve (use http://)",
					     text);
		if (n != 4 || strncasecmp(p, "http", 4) != 0)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": not an http:// URL", text);
		p = scheme_end + 3;
	}
	size_t authority_len = strcspn(p, "/?#");
	const char *rest = p + authority_len;
	if (memchr(p, '@', authority_len))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "\"%s\": credentials in the URL are not supported (set "
				     "EVOCLAW_API_KEY)",
				     text);
	const char *host = p, *host_end, *port = NULL;
	if (*p == '[') {
		host_end = memchr(p, ']', authority_len);
		if (host_end == NULL)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": unterminated [IPv6 address]", text);
		host++;
		if (host_end + 1 < rest) {
			if (host_end[1] != ':')
				return evo_error_set(err, EVO_ERR_INVALID, 0,
						     "\"%s\": expected :PORT after ]", text);
			port = host_end + 2;
		}
	} else {
		host_end = memchr(p, ':', authority_len);
		if (host_end)
			port = host_end + 1;
		else
			host_end = rest;
	}
	if (host_end == host)
		return evo_error_set(err, EVO_ERR_INVALID, 0, "\"%s\": no host", text);
	long port_number = 80;
	if (port) {
		char *end;
		errno = 0;
		port_number = strtol(port, &end, 10);
		if (port == rest || end != rest || errno || port_number < 1 || port_number > 65535 ||
		    *port == '+' || *port == '-')
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": the port must be from 1 to 65535", text);
	}
	if (*rest == '?' || *rest == '#' || strpbrk(rest, "?#"))
		return evo_error_set(err, EVO_ERR_INVALID, 0,
				     "\"%s\": a query or fragment has no place in the server URL",
				     text);
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return evo_error_set(err, EVO_ERR_INVALID, 0,
					     "\"%s\": spaces and control characters are not "
					     "allowed in a URL",
					     text);
	size_t path_len = strlen(rest);
	while (path_len > 0 && rest[path_len - 1] == '/')
		path_len--;
	url->host = xstrndup(host, (size_t)(host_end - host));
	url->port = xasprintf("%ld", port_number);
	url->authority = xstrndup(p, authority_len);
	url->base_path = xstrndup(rest, path_len);
	return 0;
}

/* poll one fd, retrying on EINTR: 1 ready, 0 timed out, -1 (errno). */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int left = timeout_ms;
		if (timeout_ms > 0) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long long spent = (now.tv_sec - start.tv_sec) * 1000LL +
					  (now.tv_nsec - start.tv_nsec) / 1000000;
			left = spent >= timeout_ms ? 0 : timeout_ms - (int)spent;
		}
		int n = poll(&p, 1, left);
		if (n >= 0)
			return n > 0 ? 1 : 0;
		if (errno != EINTR)
			return -1;
	}
}

/* The addresses of url's host. localhost is answered here: in a static
 * binary, a name lookup loads the NSS modules of the glibc it was built
 * with, which a copied binary may not find; addresses need no lookup. */
static int resolve(const struct http_url *url, struct addrinfo **found, struct evo_error *err)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	const char *host = url->host;
	if (strcasecmp(host, "localhost") == 0) {
		host = "127.0.0.1";
		hints.ai_flags |= AI_NUMERICHOST;
	}
	int rc = getaddrinfo(host, url->port, &hints, found);
	if (rc != 0)
		return evo_error_set(err, EVO_ERR_SYSTEM, rc == EAI_SYSTEM ? errno : 0,
				     "cannot resolve \"%s\"%s%s", url->host,
				     rc == EAI_SYSTEM ? "" : ": ",
				     rc == EAI_SYSTEM ? "" : gai_strerror(rc));
	return 0;
}

/* A connected, non-blocking TCP socket, or HTTP_CLIENT_UNREACHABLE. */
static int connect_unix(const struct http_url *url, struct evo_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", url->socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		evo_error_errno(err, "connecting to %s", url->socket_path);
		if (fd >= 0)
			close(fd);
		return HTTP_CLIENT_UNREACHABLE;
	}
	return fd;
}

static int connect_tcp(const struct http_url *url, int timeout_ms, struct evo_error *err)
{
	if (url->socket_path)
		return connect_unix(url, err);
	struct addrinfo *found;
	if (resolve(url, &found, err) < 0)
		return HTTP_CLIENT_UNREACHABLE;
	int last_errno = 0;
	int fd = -1;
	for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last_errno = errno;
		if (errno == EINPROGRESS) {
			int ready = wait_fd(fd, POLLOUT, timeout_ms < 0 ? 10000 : timeout_ms);
			if (ready == 1) {
				int so_error = 0;
				socklen_t len = sizeof so_error;
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
					so_error = errno;
				if (so_error == 0)
					break;
				last_errno = so_error;
			} else {
				last_errno = ready == 0 ? ETIMEDOUT : errno;
			}
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(found);
	if (fd < 0) {
		evo_error_set(err, EVO_ERR_SYSTEM, last_errno, "connecting to %s port %s", url->host,
			      url->port);
		return HTTP_CLIENT_UNREACHABLE;
	}
	return fd;
}

/* Send all of data. A peer that closed or reset the connection is
 * reported with errno EPIPE or ECONNRESET: it may have answered already
 * (413 for a body it would not read), so the caller still reads. */
static int send_all(int fd, const char *data, size_t len, int timeout_ms)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		int ready = wait_fd(fd, POLLOUT, timeout_ms);
		if (ready <= 0) {
			if (ready == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

static char *format_request(const struct http_url *url, const struct http_request *req,
			    size_t *len)
{
	_cleanup_free_ char *key =
		req->api_key && req->header ? xasprintf("X-API-Key: %s\r\n%s\r\n", req->api_key, req->header)
		: req->api_key		    ? xasprintf("X-API-Key: %s\r\n", req->api_key)
		: req->header		    ? xasprintf("%s\r\n", req->header)
					    : xstrdup("");
	_cleanup_free_ char *body_headers =
		req->body ? xasprintf("Content-Type: application/json\r\nContent-Length: %zu\r\n",
				      req->body_len)
			  : xstrdup("");
	_cleanup_free_ char *head = xasprintf("%s %s%s HTTP/1.1\r\n"
					      "Host: %s\r\n"
					      "User-Agent: evoclaw\r\n"
					      "Accept: %s\r\n"
					      "%s%s"
					      "Connection: close\r\n"
					      "\r\n",
					      req->method, url->base_path, req->path,
					      url->authority,
					      req->accept ? req->accept : "application/json", key,
					      body_headers);
	size_t head_len = strlen(head);
	size_t body_len = req->body ? req->body_len : 0;
	char *text = xmalloc(head_len + body_len + 1);
	memcpy(text, head, head_len);
	if (body_len)
		memcpy(text + head_len, req->body, body_len);
	*len = head_len + body_len;
	return text;
}

/* Read until resp is complete or the server closes the connection. */
static int read_response(int fd, struct http_response *resp, int timeout_ms,
			 struct evo_error *err)
{
	char buf[16384];
	for (;;) {
		int ready = wait_fd(fd, POLLIN, timeout_ms);
		if (ready < 0)
			return evo_error_errno(err, "waiting for the response");
		if (ready == 0)
			return evo_error_set(err, EVO_ERR_SYSTEM, 0, "no response within %d s",
					     timeout_ms / 1000);
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0 && errno != ECONNRESET)
			return evo_error_errno(err, "reading the response");
		if (n <= 0) {
			/* A reset after the response is complete is not an
			 * error; finish() decides whether anything is missing. */
			if (http_response_finish(resp, err) < 0)
				return -1;
			return 0;
		}
		if (http_response_feed(resp, buf, (size_t)n, err) < 0)
			return -1;
		if (http_response_complete(resp))
			return 0;
	}
}

int http_request_send(const struct http_url *url, const struct http_request *req,
		      struct http_response *resp, struct evo_error *err)
{
	int connect_timeout = req->timeout_ms < 0 ? 10000 : req->timeout_ms;
	_cleanup_close_ int fd = connect_tcp(url, connect_timeout, err);
	if (fd < 0)
		return HTTP_CLIENT_UNREACHABLE;
	if (req->timeout_ms < 0) {
		/* A stream may be quiet for hours: let TCP notice a server
		 * that vanished. */
		int on = 1;
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	}
	size_t len;
	_cleanup_free_ char *text = format_request(url, req, &len);
	int sent = send_all(fd, text, len, connect_timeout);
	int send_errno = errno;
	if (sent < 0 && send_errno != EPIPE && send_errno != ECONNRESET)
		return evo_error_set(err, EVO_ERR_SYSTEM, send_errno, "sending the request");
	struct evo_error read_err = {0};
	if (read_response(fd, resp, req->timeout_ms, &read_err) < 0) {
		if (sent < 0)
			return evo_error_set(err, EVO_ERR_SYSTEM, send_errno, "sending the request");
		*err = read_err;
		return -1;
	}
	return 0;
}

