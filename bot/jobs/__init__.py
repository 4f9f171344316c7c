"""Sessions and deliveries as Procrastinate jobs, on PostgreSQL (bot/jobs/queue.py, tasks.py,
runtime.py): what runs sessions when component-bot is scaled out to several processes."""
