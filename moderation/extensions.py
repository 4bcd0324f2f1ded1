"""Flask extension objects, bound to an app in `create_app` (init_app pattern)."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from moderation.models import Base

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
migrate = Migrate(render_as_batch=True)  # SQLite needs batch mode to alter tables
# No default limits: each endpoint that needs one names it. The client address is the socket's,
# or X-Forwarded-For's when TRUSTED_PROXY_COUNT installs ProxyFix.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
