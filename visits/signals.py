import django.dispatch

visit_recorded = django.dispatch.Signal()
