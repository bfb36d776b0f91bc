"""The one websocket consumer: a signed-in tab joins its user's group and receives
HTML fragments (hx-swap-oob) that htmx's ws extension swaps into the page."""

from channels.generic.websocket import AsyncWebsocketConsumer

from .live import group_name


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = group_name(user.id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Tabs only listen; htmx's ws extension may send form data we do not use.
        # A ping keeps proxies from closing an idle socket.
        if text_data == "ping":
            await self.send(text_data="<!-- pong -->")

    async def live_html(self, event):
        await self.send(text_data=event["html"])
