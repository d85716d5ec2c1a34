wrk.method = "POST"
wrk.body = "grant_type=password&username=admin&password=bench-admin-password-2024"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
