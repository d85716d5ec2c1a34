-- wrk script: POST a new event (a past one, so it is valid whenever the benchmark runs), in June
-- 2023: outside 2024, which the list and the reports measure, so the creates do not change them.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"title":"Адалдық сағаты: жүктеме сынағы","kind":"lecture","format":"in_person",
"starts_at":"2023-06-14T15:00:00+05:00","ends_at":"2023-06-14T17:00:00+05:00",
"audiences":["youth"],"organisers":[{"full_name":"Айгүл Сейітқызы","role":"speaker"}]}]]
