package views

import "github.com/djangosessions/gosessions/templates"

// operateSection is the /learn table's rows for operating live sessions:
// what a Django developer does with the Session model in manage.py shell,
// done by manage sessions through GORM on models.Session, and the metrics
// when the site serves them at metricsPath ("" when it does not: off, or
// on a listener of its own). Each row links to the page that makes a
// session to try the command on.
func operateSection(metricsPath string) templates.LearnSection {
	rows := []templates.LearnRow{
		{Django: `Session.objects.filter(expire_date__gt=now).order_by("-expire_date")[:50]`,
			Go:   `manage sessions list  // db.Gorm.Where("expire_date > ?", models.DateTime{Time: now}).Order("expire_date DESC").Limit(50).Rows()`,
			Demo: "/set"},
		{Django: `Session.objects.get(session_key__startswith=prefix).get_decoded()`,
			Go:   `manage sessions show KEY-OR-PREFIX  // signer.Loads(row.SessionData)`,
			Demo: "/"},
		{Django: `Session.objects.get(pk=key).delete()`,
			Go:   `manage sessions delete KEY-OR-PREFIX  // store.Delete(ctx, key, row.SessionData), which every cache layer sees`,
			Demo: "/flush"},
		{Django: `for s in Session.objects.filter(expire_date__gt=now).iterator(): if s.get_decoded().get("username") == "ada": s.delete()`,
			Go:   `manage sessions revoke --where username=ada  // db.Gorm.Where(...).Rows(), a conditional store.Delete of each match, again until none is left`,
			Demo: "/login"},
		{Django: `Session.objects.filter(expire_date__gt=now).count()`,
			Go:   `manage sessions stats  // db.Gorm.Model(&models.Session{}).Where("expire_date > ?", models.DateTime{Time: now}).Count(&n)`,
			Demo: "/visits"},
	}
	if metricsPath != "" {
		rows = append(rows, templates.LearnRow{
			Django: `django-prometheus: path("", include("django_prometheus.urls"))`,
			Go:     `METRICS=True: GET /metrics (gosessions_session_loads_total, gosessions_http_requests_total, ...)`,
			Demo:   metricsPath,
		})
	}
	return templates.LearnSection{Title: "Operating live sessions (manage.py shell, manage sessions, metrics)", Rows: rows}
}
