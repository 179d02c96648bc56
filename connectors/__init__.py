"""How people reach the bot: REST, the web widget (socket.io), the WeChat Official Account and WeCom."""
