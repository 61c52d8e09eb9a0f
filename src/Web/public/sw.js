// StreamVerse's service worker: shows Web Push notifications (RFC 8030; the payload is the notification as the API
// lists it, decrypted by the browser) and opens the page they are about when clicked.
self.addEventListener("push", (event) => {
  let n = {};
  try {
    n = event.data ? event.data.json() : {};
  } catch {
    n = { title: event.data ? event.data.text() : "StreamVerse" };
  }
  const url = n.videoId ? `/watch?v=${encodeURIComponent(n.videoId)}` : n.channelId ? `/channel?id=${encodeURIComponent(n.channelId)}` : "/notifications";
  event.waitUntil(self.registration.showNotification(n.title || "StreamVerse", { body: n.actorHandle ? `@${n.actorHandle}` : "", tag: n.id, data: { url } }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data?.url || "/notifications"));
});
