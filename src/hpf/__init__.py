"""Housing Provident Fund comprehensive service platform (住房公积金综合服务平台)."""
