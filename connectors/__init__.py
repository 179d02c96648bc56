"""How people reach the bot: REST, the web widget (socket.io); later WeChat and WeCom."""
